// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A fuzz target without libFuzzer: runs LLVMFuzzerTestOneInput once on each
 * file named, so the corpus (seeds and every input that once crashed) is a
 * regression test in make test (with ASan and UBSan under SAN=1). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	static uint8_t buf[1 << 22];

	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		size_t n;

		if (!f) {
			perror(argv[i]);
			return 2;
		}
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("%s: %d inputs\n", argv[0], argc - 1);
	return 0;
}

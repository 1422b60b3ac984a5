# The one place BPF compile flags live: bpf/Makefile, bench/Makefile and
# tests/e2e/helpers/Makefile include it, so a floor program or a test program
# is built exactly like the agent's and a comparison measures code, not flags.
# The includer sets BPF_INCLUDES (extra -I) before including.
CLANG ?= clang
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH := $(shell gcc -print-multiarch 2>/dev/null)
CFLAGS := -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) \
	-I/usr/include/$(MULTIARCH) $(BPF_INCLUDES)

build/%.bpf.o: %.bpf.c $(BPF_DEPS) | build
	$(CLANG) $(CFLAGS) -c $< -o $@

build:
	mkdir -p build

clean:
	rm -rf build

.PHONY: all clean

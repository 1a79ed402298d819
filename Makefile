# stance - build, test, install.  `make` builds the library, the CLI and the
# default model; `make check` runs every test; `make demo` classifies the
# seed article with the default model.

PREFIX   ?= /usr/local
CC       ?= cc
CFLAGS   ?= -O3 -g
WARN      = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
PKGS      = icu-uc icu-i18n libutf8proc zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CPPFLAGS += -Iinclude -Isrc/lib $(PKG_CFLAGS)
LIBS      = -lsvm -llinear $(PKG_LIBS) -lm -lpthread
BUILD    ?= build

LIB_SRC  := $(sort $(wildcard src/lib/*/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
PIC_OBJ  := $(LIB_SRC:%.c=$(BUILD)/pic/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

CORPUS   := $(sort $(wildcard corpus/*.tsv))
HEADERS  := include/stance.h $(wildcard src/lib/*.h src/lib/*/*.h src/cli/*.h)

.PHONY: all lib demo check check-unit check-cli check-sanitize install clean
all: $(BUILD)/libstance.a $(BUILD)/libstance.so stance models/default.stm

lib: $(BUILD)/libstance.a $(BUILD)/libstance.so

$(BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -c $< -o $@

$(BUILD)/pic/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -fPIC -fvisibility=default -c $< -o $@

$(BUILD)/libstance.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libstance.so: $(PIC_OBJ)
	$(CC) -shared -Wl,-soname,libstance.so.0 -o $@ $^ $(LIBS)

stance: $(CLI_OBJ) $(BUILD)/libstance.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libstance.a $(LIBS)

# The default model: rebuilt when the corpus or the trainer changes, and
# byte-identical when neither does (training is deterministic).
models/default.stm: stance $(CORPUS)
	./stance train -q -o $@ --cv 10 --group-by situation $(CORPUS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h $(BUILD)/libstance.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libstance.a $(LIBS)

# The CLI's record formatting is tested on its own object: the CLI uses the
# library only through its public API, so its helpers are not in the library.
$(BUILD)/tests/test_output: tests/unit/test_output.c tests/unit/unit.h $(BUILD)/src/cli/output.o \
                            $(BUILD)/libstance.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Isrc/cli $(WARN) $(CFLAGS) -Itests/unit -o $@ $< $(BUILD)/src/cli/output.o \
	    $(BUILD)/libstance.a $(LIBS)

demo: all
	./stance classify --probs corpus/seed/article.txt

check: all $(UNIT_BIN)
	@tests/run-all $(BUILD)

check-sanitize:
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" build-asan/libstance.a $(patsubst $(BUILD)/%,build-asan/%,$(UNIT_BIN)) stance-asan

stance-asan: $(CLI_SRC) build-asan/libstance.a
	$(CC) $(CPPFLAGS) $(WARN) -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -o $@ $(CLI_SRC) build-asan/libstance.a $(LIBS)

# ThreadSanitizer: the CLI and the library in one build (gcc's TSan), for
# the threads of classify -j, score -j and train (tests/tsan.sh).
TSAN_FLAGS = -O1 -g -fsanitize=thread -fno-omit-frame-pointer
stance-tsan: $(CLI_SRC) $(LIB_SRC) $(wildcard src/lib/*.h src/lib/*/*.h src/cli/*.h include/*.h)
	$(CC) $(CPPFLAGS) $(WARN) $(TSAN_FLAGS) -o $@ $(CLI_SRC) $(LIB_SRC) $(LIBS)

# libFuzzer targets: every tests/fuzz/fuzz_*.c linked against the whole
# library, all built with clang's fuzzer, ASan and UBSan instrumentation into
# build-fuzz/.  tests/fuzz/run.sh SECONDS builds and runs them.
FUZZ_CC  ?= clang
FUZZ_DIR  = build-fuzz
FUZZ_SAN  = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
            -fno-sanitize-recover=undefined
FUZZ_HDR := include/stance.h src/lib/internal.h $(wildcard src/lib/*/*.h)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_DIR)/%)
FUZZ_OBJ := $(LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o)

.PHONY: fuzz
.SECONDARY: $(FUZZ_OBJ)
fuzz: $(FUZZ_BIN)

$(FUZZ_DIR)/obj/%.o: %.c $(FUZZ_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ) $(FUZZ_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LIBS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	    $(DESTDIR)$(PREFIX)/share/stance $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 stance $(DESTDIR)$(PREFIX)/bin/stance
	install -m 644 $(BUILD)/libstance.a $(DESTDIR)$(PREFIX)/lib/libstance.a
	install -m 755 $(BUILD)/libstance.so $(DESTDIR)$(PREFIX)/lib/libstance.so.0
	ln -sf libstance.so.0 $(DESTDIR)$(PREFIX)/lib/libstance.so
	install -m 644 include/stance.h $(DESTDIR)$(PREFIX)/include/stance.h
	install -m 644 models/default.stm $(DESTDIR)$(PREFIX)/share/stance/default.stm
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBS@|$(LIBS)|' tools/stance.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/stance.pc

clean:
	rm -rf build build-asan stance stance-asan stance-tsan

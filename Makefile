# PGXS build of the extension: `make && sudo make install`, then
# `make installcheck` runs the pg_regress suite in sql/ against expected/.
EXTENSION = customer_analytics
MODULE_big = customer_analytics
DATA = $(wildcard extension/$(EXTENSION)--*.sql)

CORE_OBJS = src/core/decimal.o src/core/rfm.o src/core/stages.o
GLUE_OBJS = src/pg/barrier.o src/pg/convert.o src/pg/rfm_agg.o src/pg/rfm_bins.o src/pg/rfm_scoring.o src/pg/stages.o
OBJS = $(CORE_OBJS) $(GLUE_OBJS)

REGRESS = setup rfm_agg rfm_scoring stages bad_input parallel cdnow
REGRESS_OPTS = --load-extension=plpgsql

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -Isrc/core -Isrc/pg
PG_CXXFLAGS = -std=c++17 -fPIC -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-register -Wno-cast-function-type
SHLIB_LINK = -lstdc++ -lm

# Bitcode for the JIT would need clang++ on every build machine, and the JIT
# cannot inline these C++ functions into queries anyway.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies; the headers are few, so any change
# rebuilds every object.
$(OBJS): $(wildcard src/core/*.hpp src/pg/*.hpp)

# PGXS build of the extension: `make && sudo make install`, then
# `make installcheck` runs the pg_regress suite in sql/ against expected/.
EXTENSION = customer_analytics
MODULE_big = customer_analytics
# The install script of each version is assembled from its parts in
# extension/VERSION/ (one file per feature area, applied in name order);
# upgrade scripts extension/$(EXTENSION)--A--B.sql are written by hand.
VERSIONS = 0.1.0
DATA_built = $(foreach v,$(VERSIONS),extension/$(EXTENSION)--$(v).sql)
DATA = $(wildcard extension/$(EXTENSION)--*--*.sql)

OBJS = $(patsubst %.cpp,%.o,$(sort $(wildcard src/core/*.cpp src/pg/*.cpp)))

# setup installs the extension; the other tests run in name order.
REGRESS = setup $(filter-out setup,$(sort $(basename $(notdir $(wildcard sql/*.sql)))))
REGRESS_OPTS = --load-extension=plpgsql
ISOLATION = $(sort $(basename $(notdir $(wildcard specs/*.spec))))
ISOLATION_OPTS = --load-extension=customer_analytics

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

extension/$(EXTENSION)--0.1.0.sql: $(sort $(wildcard extension/0.1.0/*.sql))
	cat $^ > $@

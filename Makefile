# PGXS build of the extension: `make && sudo make install`, then
# `make installcheck` runs the pg_regress suite in sql/ against expected/.
EXTENSION = customer_analytics
MODULE_big = customer_analytics
# Releases: the install script of the current version (default_version in
# the control file) is assembled from the unversioned parts in
# extension/source/ (one file per feature area, applied in name order).
# Install scripts of released versions are kept frozen in extension/, and
# every release after the first has a hand-written upgrade script
# extension/$(EXTENSION)--A--B.sql from the one before it.
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)
RELEASED_SCRIPTS = extension/$(EXTENSION)--0.1.0.sql
DATA_built = extension/$(EXTENSION)--$(EXTVERSION).sql
DATA = $(RELEASED_SCRIPTS) $(wildcard extension/$(EXTENSION)--*--*.sql)

# The core (with one folder level for a model family, src/core/btyd) and
# the glue.
CORE_SOURCES = $(sort $(wildcard src/core/*.cpp src/core/*/*.cpp))
OBJS = $(patsubst %.cpp,%.o,$(CORE_SOURCES) $(sort $(wildcard src/pg/*.cpp)))

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

# The core is compiled without PostgreSQL's include directories, so a
# PostgreSQL header included in src/core does not resolve (and
# src/core/no_postgres.hpp, the last include of every core file, stops any
# that would).
$(patsubst %.cpp,%.o,$(CORE_SOURCES)): override CPPFLAGS := -Isrc/core $(filter-out -I%,$(CPPFLAGS))

# PGXS tracks no header dependencies; the headers are few, so any change
# rebuilds every object.
$(OBJS): $(wildcard src/core/*.hpp src/core/*/*.hpp src/pg/*.hpp)

extension/$(EXTENSION)--$(EXTVERSION).sql: $(sort $(wildcard extension/source/*.sql)) $(EXTENSION).control
	cat $(sort $(wildcard extension/source/*.sql)) > $@

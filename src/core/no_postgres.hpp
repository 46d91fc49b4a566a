// The last include of every source file of src/core, which is plain C++ and
// never sees a PostgreSQL header (error.hpp says why): it stops the build
// when one came in through any include before it. postgres.h defines
// POSTGRES_H, and through c.h and pg_config.h C_H and PG_VERSION_NUM; the
// frontend and fmgr headers define POSTGRES_FE_H and FMGR_H. The PGXS build
// also compiles the core without PostgreSQL's include directories (Makefile),
// so such an include does not even resolve there. No include guard: every
// inclusion checks.
#if defined(POSTGRES_H) || defined(POSTGRES_FE_H) || defined(C_H) || defined(PG_VERSION_NUM) || defined(FMGR_H)
#error "src/core must not include PostgreSQL headers: the glue in src/pg converts between PostgreSQL and the core"
#endif

#include <sqlite3.h>

/// Turns off SQLite's memory statistics (a global mutex taken on every allocation). Must run
/// before the first connection is opened; harmless if it is too late.
static inline int cp_sqlite_disable_memstatus(void) {
  return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

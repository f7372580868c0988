#include <sqlite3.h>

/* sqlite3_db_config is variadic, which Swift can't call: this is its on/off form. */
static inline int quorumkv_sqlite3_db_config_flag(sqlite3 *db, int op, int on) {
    return sqlite3_db_config(db, op, on, (int *)0);
}

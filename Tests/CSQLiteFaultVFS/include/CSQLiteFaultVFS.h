#ifndef QUORUMKV_SQLITE_FAULT_VFS_H
#define QUORUMKV_SQLITE_FAULT_VFS_H

/*
 * A SQLite VFS for tests that wraps the default one and fails chosen writes and syncs of
 * chosen files with the result code the real VFS gives for the real fault (SQLITE_FULL for
 * ENOSPC on write, SQLITE_IOERR_FSYNC for EIO on fsync, ...). Everything else goes to the
 * default VFS untouched, so SQLite reacts exactly as it would to the disk.
 *
 * Test-only: QuorumStorage never links it; a store uses it only when a test names it.
 */

/* The VFS's name, for sqlite3_open_v2. */
extern const char *const quorumkv_fault_vfs_name;

/* Registers the VFS (not as the default); safe to call any number of times, from any thread. */
int quorumkv_fault_vfs_register(void);

enum {
    QUORUMKV_FAULT_WRITE = 1,
    QUORUMKV_FAULT_SYNC = 2,
};

/*
 * Makes the next `count` calls of `operation` (QUORUMKV_FAULT_WRITE or _SYNC) on the file
 * at `path` (exactly as SQLite names it: the database path, or it with "-wal") fail with
 * `code`; a negative count fails every call until cleared. Replaces an earlier fault of the
 * same file and operation.
 */
void quorumkv_fault_vfs_arm(const char *path, int operation, int code, int count);

/* Removes every fault, and the count of injected failures, of files whose path starts with `prefix`. */
void quorumkv_fault_vfs_clear(const char *prefix);

/* How many calls the VFS has failed on files whose path starts with `prefix`. */
int quorumkv_fault_vfs_injected(const char *prefix);

#endif

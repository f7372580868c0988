#include "CSQLiteFaultVFS.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

const char *const quorumkv_fault_vfs_name = "quorumkv-faults";

#define FAULTS_MAX 64
#define PATH_MAX_BYTES 1024

typedef struct {
    int used;
    char path[PATH_MAX_BYTES];
    int operation;
    int code;
    int remaining; /* < 0: until cleared */
} Fault;

typedef struct {
    char path[PATH_MAX_BYTES];
    int count;
} Injected;

static pthread_mutex_t faults_lock = PTHREAD_MUTEX_INITIALIZER;
static Fault faults[FAULTS_MAX];
static Injected injected[FAULTS_MAX];

/* The wrapper: SQLite allocates szOsFile bytes; the real file's bytes follow this header. */
typedef struct {
    sqlite3_file base;
    sqlite3_file *real;
    const char *path; /* SQLite keeps the name valid until xClose */
} FaultFile;

static sqlite3_vfs *real_vfs;

static void count_injection(const char *path) {
    int free_slot = -1;
    for (int i = 0; i < FAULTS_MAX; i++) {
        if (injected[i].path[0] != 0 && strcmp(injected[i].path, path) == 0) {
            injected[i].count++;
            return;
        }
        if (injected[i].path[0] == 0 && free_slot < 0) free_slot = i;
    }
    if (free_slot >= 0) {
        strncpy(injected[free_slot].path, path, PATH_MAX_BYTES - 1);
        injected[free_slot].count = 1;
    }
}

/* The code to fail this call with, or SQLITE_OK. */
static int take_fault(const FaultFile *file, int operation) {
    if (file->path == NULL) return SQLITE_OK;
    int code = SQLITE_OK;
    pthread_mutex_lock(&faults_lock);
    for (int i = 0; i < FAULTS_MAX; i++) {
        Fault *fault = &faults[i];
        if (!fault->used || fault->operation != operation || strcmp(fault->path, file->path) != 0) continue;
        code = fault->code;
        if (fault->remaining > 0 && --fault->remaining == 0) fault->used = 0;
        count_injection(file->path);
        break;
    }
    pthread_mutex_unlock(&faults_lock);
    return code;
}

static int fault_close(sqlite3_file *f) {
    FaultFile *file = (FaultFile *)f;
    int rc = file->real->pMethods ? file->real->pMethods->xClose(file->real) : SQLITE_OK;
    file->real->pMethods = NULL;
    return rc;
}

static int fault_read(sqlite3_file *f, void *buffer, int amount, sqlite3_int64 offset) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xRead(file->real, buffer, amount, offset);
}

static int fault_write(sqlite3_file *f, const void *buffer, int amount, sqlite3_int64 offset) {
    FaultFile *file = (FaultFile *)f;
    int code = take_fault(file, QUORUMKV_FAULT_WRITE);
    if (code != SQLITE_OK) return code;
    return file->real->pMethods->xWrite(file->real, buffer, amount, offset);
}

static int fault_truncate(sqlite3_file *f, sqlite3_int64 size) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xTruncate(file->real, size);
}

static int fault_sync(sqlite3_file *f, int flags) {
    FaultFile *file = (FaultFile *)f;
    int code = take_fault(file, QUORUMKV_FAULT_SYNC);
    if (code != SQLITE_OK) return code;
    return file->real->pMethods->xSync(file->real, flags);
}

static int fault_file_size(sqlite3_file *f, sqlite3_int64 *size) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xFileSize(file->real, size);
}

static int fault_lock(sqlite3_file *f, int level) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xLock(file->real, level);
}

static int fault_unlock(sqlite3_file *f, int level) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xUnlock(file->real, level);
}

static int fault_check_reserved_lock(sqlite3_file *f, int *result) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xCheckReservedLock(file->real, result);
}

static int fault_file_control(sqlite3_file *f, int op, void *argument) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xFileControl(file->real, op, argument);
}

static int fault_sector_size(sqlite3_file *f) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xSectorSize(file->real);
}

static int fault_device_characteristics(sqlite3_file *f) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xDeviceCharacteristics(file->real);
}

static int fault_shm_map(sqlite3_file *f, int page, int page_size, int extend, void volatile **pointer) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xShmMap(file->real, page, page_size, extend, pointer);
}

static int fault_shm_lock(sqlite3_file *f, int offset, int n, int flags) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xShmLock(file->real, offset, n, flags);
}

static void fault_shm_barrier(sqlite3_file *f) {
    FaultFile *file = (FaultFile *)f;
    file->real->pMethods->xShmBarrier(file->real);
}

static int fault_shm_unmap(sqlite3_file *f, int delete_flag) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xShmUnmap(file->real, delete_flag);
}

static int fault_fetch(sqlite3_file *f, sqlite3_int64 offset, int amount, void **pointer) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xFetch(file->real, offset, amount, pointer);
}

static int fault_unfetch(sqlite3_file *f, sqlite3_int64 offset, void *pointer) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xUnfetch(file->real, offset, pointer);
}

static const sqlite3_io_methods fault_methods_v3 = {
    3, fault_close, fault_read, fault_write, fault_truncate, fault_sync, fault_file_size, fault_lock, fault_unlock,
    fault_check_reserved_lock, fault_file_control, fault_sector_size, fault_device_characteristics, fault_shm_map,
    fault_shm_lock, fault_shm_barrier, fault_shm_unmap, fault_fetch, fault_unfetch,
};

static const sqlite3_io_methods fault_methods_v1 = {
    1, fault_close, fault_read, fault_write, fault_truncate, fault_sync, fault_file_size, fault_lock, fault_unlock,
    fault_check_reserved_lock, fault_file_control, fault_sector_size, fault_device_characteristics,
    0, 0, 0, 0, 0, 0,
};

static int fault_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags) {
    (void)vfs;
    FaultFile *file = (FaultFile *)f;
    file->real = (sqlite3_file *)&file[1];
    file->path = name;
    file->base.pMethods = NULL;
    int rc = real_vfs->xOpen(real_vfs, name, file->real, flags, out_flags);
    if (file->real->pMethods) {
        file->base.pMethods = file->real->pMethods->iVersion >= 3 ? &fault_methods_v3 : &fault_methods_v1;
    }
    return rc;
}

static int fault_delete(sqlite3_vfs *vfs, const char *name, int sync_dir) {
    (void)vfs;
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int fault_access(sqlite3_vfs *vfs, const char *name, int flags, int *result) {
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, result);
}

static int fault_full_pathname(sqlite3_vfs *vfs, const char *name, int size, char *out) {
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, size, out);
}

static void *fault_dl_open(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return real_vfs->xDlOpen(real_vfs, name);
}

static void fault_dl_error(sqlite3_vfs *vfs, int size, char *message) {
    (void)vfs;
    real_vfs->xDlError(real_vfs, size, message);
}

static void (*fault_dl_sym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void) {
    (void)vfs;
    return real_vfs->xDlSym(real_vfs, handle, symbol);
}

static void fault_dl_close(sqlite3_vfs *vfs, void *handle) {
    (void)vfs;
    real_vfs->xDlClose(real_vfs, handle);
}

static int fault_randomness(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return real_vfs->xRandomness(real_vfs, size, out);
}

static int fault_sleep(sqlite3_vfs *vfs, int microseconds) {
    (void)vfs;
    return real_vfs->xSleep(real_vfs, microseconds);
}

static int fault_current_time(sqlite3_vfs *vfs, double *now) {
    (void)vfs;
    return real_vfs->xCurrentTime(real_vfs, now);
}

static int fault_get_last_error(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, size, out) : 0;
}

static int fault_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *now) {
    (void)vfs;
    return real_vfs->xCurrentTimeInt64(real_vfs, now);
}

static sqlite3_vfs fault_vfs;
static pthread_once_t register_once = PTHREAD_ONCE_INIT;
static int register_result = SQLITE_ERROR;

static void register_vfs(void) {
    if (sqlite3_initialize() != SQLITE_OK) return;
    real_vfs = sqlite3_vfs_find(NULL);
    if (real_vfs == NULL) return;
    memset(&fault_vfs, 0, sizeof fault_vfs);
    fault_vfs.iVersion = 2;
    fault_vfs.szOsFile = (int)sizeof(FaultFile) + real_vfs->szOsFile;
    fault_vfs.mxPathname = real_vfs->mxPathname;
    fault_vfs.zName = quorumkv_fault_vfs_name;
    fault_vfs.xOpen = fault_open;
    fault_vfs.xDelete = fault_delete;
    fault_vfs.xAccess = fault_access;
    fault_vfs.xFullPathname = fault_full_pathname;
    fault_vfs.xDlOpen = fault_dl_open;
    fault_vfs.xDlError = fault_dl_error;
    fault_vfs.xDlSym = fault_dl_sym;
    fault_vfs.xDlClose = fault_dl_close;
    fault_vfs.xRandomness = fault_randomness;
    fault_vfs.xSleep = fault_sleep;
    fault_vfs.xCurrentTime = fault_current_time;
    fault_vfs.xGetLastError = fault_get_last_error;
    fault_vfs.xCurrentTimeInt64 = fault_current_time_int64;
    register_result = sqlite3_vfs_register(&fault_vfs, 0);
}

int quorumkv_fault_vfs_register(void) {
    pthread_once(&register_once, register_vfs);
    return register_result;
}

void quorumkv_fault_vfs_arm(const char *path, int operation, int code, int count) {
    if (path == NULL || strlen(path) >= PATH_MAX_BYTES || count == 0) return;
    pthread_mutex_lock(&faults_lock);
    Fault *slot = NULL;
    for (int i = 0; i < FAULTS_MAX; i++) {
        if (faults[i].used && faults[i].operation == operation && strcmp(faults[i].path, path) == 0) {
            slot = &faults[i];
            break;
        }
        if (!faults[i].used && slot == NULL) slot = &faults[i];
    }
    if (slot != NULL) {
        slot->used = 1;
        strncpy(slot->path, path, PATH_MAX_BYTES - 1);
        slot->path[PATH_MAX_BYTES - 1] = 0;
        slot->operation = operation;
        slot->code = code;
        slot->remaining = count;
    }
    pthread_mutex_unlock(&faults_lock);
}

void quorumkv_fault_vfs_clear(const char *prefix) {
    size_t length = strlen(prefix);
    pthread_mutex_lock(&faults_lock);
    for (int i = 0; i < FAULTS_MAX; i++) {
        if (faults[i].used && strncmp(faults[i].path, prefix, length) == 0) faults[i].used = 0;
        if (injected[i].path[0] != 0 && strncmp(injected[i].path, prefix, length) == 0) injected[i].path[0] = 0;
    }
    pthread_mutex_unlock(&faults_lock);
}

int quorumkv_fault_vfs_injected(const char *prefix) {
    size_t length = strlen(prefix);
    int total = 0;
    pthread_mutex_lock(&faults_lock);
    for (int i = 0; i < FAULTS_MAX; i++) {
        if (injected[i].path[0] != 0 && strncmp(injected[i].path, prefix, length) == 0) total += injected[i].count;
    }
    pthread_mutex_unlock(&faults_lock);
    return total;
}

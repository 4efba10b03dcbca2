#include "bot/wal_write_batching_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

namespace coach::bot {
namespace {

constexpr int kFrameHeaderBytes = 24;
// Beyond this a long transaction's early frames go out before its commit (they are not visible until then).
constexpr std::size_t kMaxPendingBytes = 1 << 20;
constexpr std::size_t kMaxWriteBytes = 1 << 16;

std::atomic<std::uint64_t> wal_writes_issued{0};

/// A WAL file: our state first, the unix VFS's own file object after it (SQLite allocates szOsFile bytes).
struct BatchingWalFile {
  sqlite3_file base{};
  std::string pending;
  sqlite3_int64 pending_offset = 0;
  bool commit_frame_header_seen = false;

  sqlite3_file* Real() { return reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(this) + RealOffset()); }
  static constexpr std::size_t RealOffset() {
    return (sizeof(BatchingWalFile) + alignof(std::max_align_t) - 1) / alignof(std::max_align_t) *
           alignof(std::max_align_t);
  }
};

BatchingWalFile* Wal(sqlite3_file* file) {
  return reinterpret_cast<BatchingWalFile*>(file);
}

int Flush(BatchingWalFile* wal) {
  sqlite3_file* real = wal->Real();
  int code = SQLITE_OK;
  // The unix VFS issues one pwrite per call and masks its length to 17 bits (it never expects more than a page):
  // longer runs go in 64 KiB pieces.
  for (std::size_t written = 0; written < wal->pending.size() && code == SQLITE_OK;) {
    const std::size_t piece = std::min(kMaxWriteBytes, wal->pending.size() - written);
    ++wal_writes_issued;
    code = real->pMethods->xWrite(real, wal->pending.data() + written, static_cast<int>(piece),
                                  wal->pending_offset + static_cast<sqlite3_int64>(written));
    written += piece;
  }
  wal->pending.clear();
  return code;
}

int Close(sqlite3_file* file) {
  auto* wal = Wal(file);
  const int flushed = Flush(wal);
  sqlite3_file* real = wal->Real();
  const int closed = real->pMethods != nullptr ? real->pMethods->xClose(real) : SQLITE_OK;
  wal->~BatchingWalFile();
  return flushed != SQLITE_OK ? flushed : closed;
}

int Read(sqlite3_file* file, void* buffer, int amount, sqlite3_int64 offset) {
  auto* wal = Wal(file);
  if (const int code = Flush(wal); code != SQLITE_OK) return code;
  return wal->Real()->pMethods->xRead(wal->Real(), buffer, amount, offset);
}

int Write(sqlite3_file* file, const void* buffer, int amount, sqlite3_int64 offset) {
  auto* wal = Wal(file);
  const bool contiguous = offset == wal->pending_offset + static_cast<sqlite3_int64>(wal->pending.size());
  if (!wal->pending.empty() &&
      (!contiguous || wal->pending.size() + static_cast<std::size_t>(amount) > kMaxPendingBytes)) {
    if (const int code = Flush(wal); code != SQLITE_OK) return code;
  }
  if (wal->pending.empty()) wal->pending_offset = offset;
  wal->pending.append(static_cast<const char*>(buffer), static_cast<std::size_t>(amount));
  if (wal->commit_frame_header_seen) {
    // The commit frame's page: the transaction's frames are all here, and SQLite publishes them next.
    wal->commit_frame_header_seen = false;
    return Flush(wal);
  }
  if (amount == kFrameHeaderBytes) {
    // Frame header: bytes 4..7 hold the database size after the commit on a commit frame, zero otherwise.
    const auto* bytes = static_cast<const unsigned char*>(buffer);
    wal->commit_frame_header_seen = (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0;
  }
  return SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  auto* wal = Wal(file);
  if (const int code = Flush(wal); code != SQLITE_OK) return code;
  return wal->Real()->pMethods->xTruncate(wal->Real(), size);
}

int Sync(sqlite3_file* file, int flags) {
  auto* wal = Wal(file);
  if (const int code = Flush(wal); code != SQLITE_OK) return code;
  return wal->Real()->pMethods->xSync(wal->Real(), flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  auto* wal = Wal(file);
  if (const int code = Flush(wal); code != SQLITE_OK) return code;
  return wal->Real()->pMethods->xFileSize(wal->Real(), size);
}

int Lock(sqlite3_file* file, int level) {
  return Wal(file)->Real()->pMethods->xLock(Wal(file)->Real(), level);
}

int Unlock(sqlite3_file* file, int level) {
  return Wal(file)->Real()->pMethods->xUnlock(Wal(file)->Real(), level);
}

int CheckReservedLock(sqlite3_file* file, int* result) {
  return Wal(file)->Real()->pMethods->xCheckReservedLock(Wal(file)->Real(), result);
}

int FileControl(sqlite3_file* file, int operation, void* argument) {
  auto* wal = Wal(file);
  if (const int code = Flush(wal); code != SQLITE_OK) return code;
  return wal->Real()->pMethods->xFileControl(wal->Real(), operation, argument);
}

int SectorSize(sqlite3_file* file) {
  return Wal(file)->Real()->pMethods->xSectorSize(Wal(file)->Real());
}

int DeviceCharacteristics(sqlite3_file* file) {
  return Wal(file)->Real()->pMethods->xDeviceCharacteristics(Wal(file)->Real());
}

// A WAL file has no shared memory and is never memory-mapped by SQLite: version 1 methods are all it needs.
const sqlite3_io_methods kWalMethods = {1,
                                        Close,
                                        Read,
                                        Write,
                                        Truncate,
                                        Sync,
                                        FileSize,
                                        Lock,
                                        Unlock,
                                        CheckReservedLock,
                                        FileControl,
                                        SectorSize,
                                        DeviceCharacteristics,
                                        nullptr,
                                        nullptr,
                                        nullptr,
                                        nullptr,
                                        nullptr,
                                        nullptr};

sqlite3_vfs* RealVfs(sqlite3_vfs* vfs) {
  return static_cast<sqlite3_vfs*>(vfs->pAppData);
}

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  sqlite3_vfs* real_vfs = RealVfs(vfs);
  // Everything but the WAL is the unix VFS's own file object, in place: no indirection at all.
  if ((flags & SQLITE_OPEN_WAL) == 0) return real_vfs->xOpen(real_vfs, name, file, flags, out_flags);
  auto* wal = new (file) BatchingWalFile();
  sqlite3_file* real = wal->Real();
  real->pMethods = nullptr;
  const int code = real_vfs->xOpen(real_vfs, name, real, flags, out_flags);
  if (code != SQLITE_OK) {
    if (real->pMethods != nullptr) real->pMethods->xClose(real);
    wal->~BatchingWalFile();
    file->pMethods = nullptr;
    return code;
  }
  wal->base.pMethods = &kWalMethods;
  return SQLITE_OK;
}

sqlite3_vfs* Register() {
  sqlite3_vfs* real_vfs = sqlite3_vfs_find(nullptr);
  if (real_vfs == nullptr) throw std::runtime_error("SQLite has no default VFS");
  // The unix VFS's other entry points ignore the sqlite3_vfs they are given (or read only fields copied here).
  static sqlite3_vfs vfs = *real_vfs;
  vfs.zName = "coachbot-wal-batching";
  vfs.pAppData = real_vfs;
  vfs.szOsFile = static_cast<int>(BatchingWalFile::RealOffset()) + real_vfs->szOsFile;
  vfs.xOpen = Open;
  vfs.pNext = nullptr;
  if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK) throw std::runtime_error("could not register the SQLite VFS");
  return &vfs;
}

}  // namespace

const char* WalWriteBatchingVfsName() {
  static sqlite3_vfs* const vfs = Register();
  return vfs->zName;
}

std::uint64_t WalWritesIssued() {
  return wal_writes_issued.load();
}

}  // namespace coach::bot

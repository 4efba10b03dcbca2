#pragma once

#include <cstdint>

namespace coach::bot {

/// The name of a SQLite VFS that is the default unix VFS except for write-ahead-log files: SQLite writes each WAL
/// frame as two pwrite calls (24-byte header, then the page), some ten system calls per turn, a tenth of the
/// server's time in the kernel's write path. This VFS gathers a transaction's contiguous WAL writes in memory and
/// hands them to the unix VFS as one write when the commit frame is complete, before SQLite publishes the commit
/// to other connections (that happens after the frames are written, through the shared-memory index), so no reader
/// can see a frame that is not in the file. A failed write fails the commit as before. Reads, syncs, size queries,
/// truncation and close write what is pending first. Registered once, on first use.
const char* WalWriteBatchingVfsName();

/// Write calls the wrapped VFS received for WAL files since the process started (for tests).
std::uint64_t WalWritesIssued();

}  // namespace coach::bot

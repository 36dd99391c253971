import Crypto
import Foundation
import HeraldCore
import HeraldStore

/// E-mail into a Maildir (`tmp/` then renamed into `new/`), the default when no SMTP server
/// is configured, so a fresh machine works and `mutt -f` reads what was sent.
public struct MaildirTransport: Transport {
    let directory: URL
    private let queue = DispatchQueue(label: "herald-maildir")

    /// Creates `directory` with its `tmp`, `new` and `cur` folders when missing.
    public init(directory: URL) throws {
        self.directory = directory
        for folder in ["tmp", "new", "cur"] {
            try FileManager.default.createDirectory(
                at: directory.appending(path: folder), withIntermediateDirectories: true)
        }
    }

    /// `maildir:` and the directory's path.
    public var destination: String { "maildir:" + directory.path }

    /// Writes the message into `tmp/`, syncs it and moves it into `new/`, off the Swift pool.
    public func send(_ delivery: ClaimedDelivery) async -> SendResult {
        // File writes and fsync block: they run on a queue of their own, not the Swift pool.
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: write(delivery)) }
        }
    }

    private func write(_ delivery: ClaimedDelivery) -> SendResult {
        // Unique per delivery and attempt, as Maildir asks: time, id, attempt, host.
        let name =
            "\(Int(Date().timeIntervalSince1970)).H\(delivery.id)_\(delivery.attempts).\(ProcessInfo.processInfo.hostName)"
        let temporary = directory.appending(path: "tmp/\(name)").path
        let final = directory.appending(path: "new/\(name)").path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            return .failed("cannot create \(temporary): \(String(cString: strerror(errno)))", retryAfter: nil)
        }
        let written = delivery.payload.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == delivery.payload.count, synced == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            return .failed("cannot write \(temporary): \(reason)", retryAfter: nil)
        }
        guard rename(temporary, final) == 0 else {
            unlink(temporary)
            return .failed(
                "cannot move the message into \(final): \(String(cString: strerror(errno)))", retryAfter: nil)
        }
        return .delivered
    }
}

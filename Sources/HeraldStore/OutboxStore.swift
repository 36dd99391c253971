import Foundation
import HeraldApp
import HeraldCore

/// The durable outbox: fan-out inside the caller's transaction, leases, outcomes in batches.
public struct OutboxStore {
    let database: Database
    let clock: any Clock
    let settings: OutboxSettings
    /// Where the public channels' rows this store writes go, leased, when the worker of this
    /// process has room for them (the scheduler's); nil: they wait to be claimed.
    let handoff: DeliveryHandoff?

    /// Creates a store over `database`; `settings` render the messages it fans out.
    public init(database: Database, clock: any Clock, settings: OutboxSettings, handoff: DeliveryHandoff? = nil) {
        self.database = database
        self.clock = clock
        self.settings = settings
        self.handoff = handoff
    }

    /// What a link in a message does.
    public typealias LinkPurpose = HeraldApp.LinkPurpose

    /// The host of a URL, lowercased, for the per-host limit. URLs were validated when their
    /// channel or provider was added; this is only the cheap cut a 100,000-endpoint fan-out
    /// needs (URLComponents costs several microseconds a call).
    static func host(of url: String) -> String {
        var url = url
        return url.withUTF8 { bytes in
            lowercasedHost(in: bytes) { String(decoding: $0, as: UTF8.self) } ?? String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Hands `body` the host of the URL in `bytes`, lowercased, in a buffer of its own; nil when
    /// the URL has no host. On bytes, so the SQL function `herald_host` makes no string per row.
    static func lowercasedHost<T>(in bytes: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> T)
        -> T?
    {
        var start = 0
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")), bytes[colon...].starts(with: "://".utf8) {
            start = colon + 3
        }
        var end =
            bytes[start...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }
            ?? bytes.count
        if let at = bytes[start..<end].lastIndex(of: UInt8(ascii: "@")) { start = at + 1 }
        if start < end && bytes[start] == UInt8(ascii: "["),
            let close = bytes[start..<end].firstIndex(of: UInt8(ascii: "]"))
        {
            start += 1
            end = close
        } else if let colon = bytes[start..<end].lastIndex(of: UInt8(ascii: ":")) {
            end = colon
        }
        guard start < end else { return nil }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: end - start) { buffer in
            for (index, byte) in bytes[start..<end].enumerated() {
                buffer[index] = byte >= 65 && byte <= 90 ? byte + 32 : byte
            }
            return body(UnsafeBufferPointer(buffer))
        }
    }

    /// A short, stable fingerprint of a recipient (FNV-1a, 64 bits) for message ids: the same
    /// recipient of the same notice always gets the same id, so receivers can drop duplicates.
    static func fingerprint(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return String(hash, radix: 16)
    }

    /// `[1,2,3]`, for `json_each`: one statement for a whole batch of ids.
    static func jsonList(_ ids: [Int64]) -> String {
        "[" + ids.map(String.init).joined(separator: ",") + "]"
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What waits for a connection, in arrival order: taken from the front without moving the
/// rest each time (a fan-out queues 100,000), trimmed every 1,024 taken.
struct WaitingLine<Item> {
    private var items: [Item] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var count: Int { items.count - head }

    mutating func append(_ item: Item) { items.append(item) }
    mutating func append(contentsOf newItems: [Item]) { items.append(contentsOf: newItems) }

    /// Back at the front, ahead of every other, in their order: sends to try again first.
    mutating func putFirst(_ returned: [Item]) { items.replaceSubrange(head..<head, with: returned) }

    mutating func next() -> Item? {
        guard head < items.count else { return nil }
        let item = items[head]
        head += 1
        if head >= 1024 || head == items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }
}

/// A pipe that wakes a client's thread out of `poll`: the thread polls `readEnd` beside its
/// connections, and anyone calls `wake()`.
final class WakePipe: @unchecked Sendable {
    let readEnd: Int32
    private let writeEnd: Int32

    init() {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "no pipe to wake a client's thread with")
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    deinit {
        Glibc.close(readEnd)
        Glibc.close(writeEnd)
    }

    func wake() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)  // a full pipe already wakes it
    }

    /// Empties the pipe after `poll` saw it readable.
    func drain() {
        var sink = [UInt8](repeating: 0, count: 64)
        while read(readEnd, &sink, sink.count) > 0 {}
    }
}

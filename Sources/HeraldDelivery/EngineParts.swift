import CCurl
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

/// A level-triggered epoll set of sockets, read interest always, write interest when asked.
final class Epoll {
    private let fd: Int32

    init() {
        fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(fd >= 0, "no epoll instance for the engine's thread")
    }

    deinit { Glibc.close(fd) }

    /// Whether the socket is in the set now.
    @discardableResult
    func add(_ socket: Int32) -> Bool { control(EPOLL_CTL_ADD, socket, writable: false) }

    func change(_ socket: Int32, writable: Bool) { _ = control(EPOLL_CTL_MOD, socket, writable: writable) }

    func remove(_ socket: Int32) {
        var event = epoll_event()
        _ = epoll_ctl(fd, EPOLL_CTL_DEL, socket, &event)
    }

    private func control(_ operation: Int32, _ socket: Int32, writable: Bool) -> Bool {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | (writable ? EPOLLOUT.rawValue : 0)
        event.data.fd = socket
        return epoll_ctl(fd, operation, socket, &event) == 0
    }

    /// Waits up to `timeout` ms for sockets ready; returns how many of `events` it filled.
    func wait(into events: inout [epoll_event], timeout: Int32) -> Int {
        let count = events.withUnsafeMutableBufferPointer {
            epoll_wait(fd, $0.baseAddress, Int32($0.count), timeout)
        }
        return max(0, Int(count))
    }
}

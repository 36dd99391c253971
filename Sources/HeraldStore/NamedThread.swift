import Foundation

extension Thread {
    /// Starts `body` on a new thread that the system knows as `name` (`top -H`, `ps -L`,
    /// perf): Foundation on Linux keeps `Thread.name` to itself, and a thread would otherwise
    /// show the name of the pool thread that made it. Linux keeps 15 bytes of a name.
    public static func start(
        named name: String, qualityOfService: QualityOfService? = nil, _ body: @escaping @Sendable () -> Void
    ) {
        precondition(name.utf8.count <= 15, "a thread name longer than Linux keeps: \(name)")
        let thread = Thread {
            // pthread_setname_np is a GNU extension Swift does not see; this is what it writes.
            let comm = open("/proc/thread-self/comm", O_WRONLY)
            if comm >= 0 {
                _ = name.withCString { write(comm, $0, strlen($0)) }
                close(comm)
            }
            body()
        }
        thread.name = name
        if let qualityOfService { thread.qualityOfService = qualityOfService }
        thread.start()
    }
}

import Foundation
import Testing

@testable import HeraldDelivery

/// The engine's and scheduler's threads carry their names where the system shows them.
@Suite struct ThreadNameTests {
    @Test func aStartedThreadIsKnownByItsNameToTheSystem() async {
        let name = await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            Thread.start(named: "herald-test") {
                // What `ps -L` and perf read: the thread's comm, not Foundation's own record.
                let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
                continuation.resume(returning: comm.trimmingCharacters(in: .newlines))
            }
        }
        #expect(name == "herald-test")
    }
}

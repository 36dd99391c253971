import Crypto
import Foundation
import HeraldCore
import HeraldStore

/// Sends one claimed delivery.
public protocol Transport: Sendable {
    func send(_ delivery: ClaimedDelivery) async -> SendResult
    /// Starts sending and calls `completion` when done, on any thread. The workers use this;
    /// the default runs `send` in a task, libcurl's transports call back from the engine.
    func start(_ delivery: ClaimedDelivery, completion: @escaping @Sendable (SendResult) -> Void)
    /// Where delivered messages went, for the record (no credentials).
    var destination: String { get }
    /// Stopping: sends started but still waiting for a connection end as `.notAttempted`.
    func stopWaiting()
    /// Sends to these recipients are about to start (a publication is firing): connect ahead.
    func connectAhead(to recipients: [String])
}

extension Transport {
    /// Runs `send` in a task and hands its result to `completion`.
    public func start(_ delivery: ClaimedDelivery, completion: @escaping @Sendable (SendResult) -> Void) {
        Task { completion(await send(delivery)) }
    }

    /// Does nothing: a transport that does not queue sends has none waiting.
    public func stopWaiting() {}

    /// Does nothing: a transport without connections of its own has none to make ahead.
    public func connectAhead(to recipients: [String]) {}
}

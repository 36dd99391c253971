import CCurl
import Foundation

/// Limits of the engine.
public struct CurlSettings: Sendable {
    /// Seconds allowed to connect to a host.
    public var connectTimeout: TimeInterval = 10
    /// Seconds allowed for a whole answer once the request is written (connecting has
    /// `connectTimeout` of its own); the SMTP client's, for each reply of its relay.
    public var totalTimeout: TimeInterval = 30
    /// Connections to one origin (scheme, host and port) at once, one request each; more
    /// requests wait in the engine, in order, and start the moment one ends, without a round
    /// trip through the caller. Their timeouts start then. The SMTP client's to its relay too.
    public var maxConnectionsPerHost = 8
    /// Connections open at once over all hosts.
    public var maxConnections = 256
    /// CA certificates (PEM) to verify the SMTP relay with instead of the system's: an internal
    /// relay with a certificate from the organisation's own CA (`HERALD_SMTP_CA_FILE`).
    public var smtpCAFile: String?
    /// CA certificates to verify webhook receivers with instead of the system's. Only tests
    /// set it: a receiver on 127.0.0.1 with a certificate from a CA of their own.
    var receiverCAFile: String?

    /// Settings with the given limits; each default is the property's.
    public init(
        connectTimeout: TimeInterval = 10, totalTimeout: TimeInterval = 30, maxConnectionsPerHost: Int = 8,
        maxConnections: Int = 256,
        smtpCAFile: String? = nil
    ) {
        self.smtpCAFile = smtpCAFile
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.maxConnectionsPerHost = maxConnectionsPerHost
        self.maxConnections = maxConnections
    }
}

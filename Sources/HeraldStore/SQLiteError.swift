import CSQLite

/// A failure reported by SQLite, with its extended result code mapped to what a user can act on.
public struct SQLiteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong, in categories callers decide on.
    public enum Kind: Equatable, Sendable {
        /// Another connection holds the lock longer than the busy timeout.
        case busy
        case uniqueViolation
        case foreignKeyViolation
        case checkViolation
        case notNullViolation
        case otherConstraint
        /// The file cannot be opened: missing directory, permissions.
        case cannotOpen
        /// The file exists but is not a SQLite database.
        case notADatabase
        case readOnly
        case corrupt
        /// The disk or the database is full.
        case full
        case ioError
        case other
    }

    /// The extended result code.
    public let code: Int32
    /// SQLite's own message.
    public let message: String
    /// The database file, for messages.
    public let path: String

    /// An error for `code` with SQLite's `message`, about the database at `path`.
    public init(code: Int32, message: String, path: String) {
        self.code = code
        self.message = message
        self.path = path
    }

    /// The category of `code`.
    public var kind: Kind {
        switch code {
        // Extended codes are C macros built with shifts, which Swift does not import.
        case SQLITE_CONSTRAINT | (8 << 8), SQLITE_CONSTRAINT | (6 << 8): return .uniqueViolation  // UNIQUE, PRIMARYKEY
        case SQLITE_CONSTRAINT | (3 << 8): return .foreignKeyViolation
        case SQLITE_CONSTRAINT | (1 << 8): return .checkViolation
        case SQLITE_CONSTRAINT | (5 << 8): return .notNullViolation
        default: break
        }
        switch code & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED: return .busy
        case SQLITE_CONSTRAINT: return .otherConstraint
        case SQLITE_CANTOPEN: return .cannotOpen
        case SQLITE_NOTADB: return .notADatabase
        case SQLITE_READONLY: return .readOnly
        case SQLITE_CORRUPT: return .corrupt
        case SQLITE_FULL: return .full
        case SQLITE_IOERR: return .ioError
        default: return .other
        }
    }

    /// What went wrong and what to do about it, naming the file; SQLite's message in brackets.
    public var description: String {
        switch kind {
        case .busy: return "the database \(path) is locked by another process; try again when it is done (\(message))"
        case .cannotOpen:
            return "cannot open the database \(path): check that its directory exists and is writable (\(message))"
        case .notADatabase: return "\(path) is not a SQLite database (\(message))"
        case .readOnly: return "the database \(path) is read-only: check the file's permissions (\(message))"
        case .corrupt: return "the database \(path) is damaged; restore it from a backup (\(message))"
        case .full: return "the disk holding \(path) is full (\(message))"
        default: return "database error \(code) in \(path): \(message)"
        }
    }
}

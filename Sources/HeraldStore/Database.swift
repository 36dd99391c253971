import CSQLite
import Foundation
import Synchronization

/// A value bound to or read from SQL.
public enum SQLValue: Equatable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// One connection to a SQLite file. Not `Sendable`: a connection belongs to one thread at a
/// time; concurrent users open their own (WAL lets readers run beside the writer).
public final class Database {
    /// The file this connection is on.
    public let path: String
    private let handle: OpaquePointer
    private var statements: [String: Statement] = [:]
    private var inTransaction = false
    private var rehearsing = false
    /// What the write transaction under way asked to run once it commits.
    private var onCommit: [() -> Void] = []
    /// The busy handler's clock; the connection keeps it alive for the handler.
    private let busyWait: BusyWait
    /// The turn to write, shared by this process's connections to the file (nil in memory).
    private let writerTurn: WriterTurn?
    /// Who makes this connection's checkpoints, kept alive for its WAL hook (nil: SQLite, in the commit).
    private var checkpointer: Checkpointer?

    /// Opens (creating if missing) the database at `path` with WAL, foreign keys and a busy timeout.
    public init(path: String, busyTimeout: Duration = .seconds(5)) throws {
        self.path = path
        // The file holds embargoed text and secrets: it is created readable by its owner only
        // (SQLite gives the -wal and -shm files the same mode as the database).
        // A file made by an earlier version (0644) is tightened too; one that belongs to
        // someone else is left as it is (chmod fails), and opening it says what is wrong.
        if path != ":memory:" && !path.isEmpty {
            let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
            if descriptor >= 0 { close(descriptor) }
            for file in [path, path + "-wal", path + "-shm"] { _ = chmod(file, 0o600) }
        }
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            let code = db.map { sqlite3_extended_errcode($0) } ?? rc
            sqlite3_close_v2(db)
            throw SQLiteError(code: code, message: message, path: path)
        }
        handle = db
        writerTurn = WriterTurn.forFile(path)
        sqlite3_extended_result_codes(db, 1)
        let milliseconds =
            busyTimeout.components.seconds * 1000 + busyTimeout.components.attoseconds / 1_000_000_000_000_000
        // A connection that finds the database locked tries again every millisecond until the
        // timeout. SQLite's own handler sleeps up to 100 ms between tries, and would miss the
        // moment a writer leaves free between two short transactions (the scheduler's fan-out
        // shares), so one connection could keep the lock for the length of a fan-out.
        busyWait = BusyWait(timeout: UInt64(max(0, milliseconds)) * 1_000_000)
        if milliseconds > 0 {
            sqlite3_busy_handler(
                db,
                { context, tries in
                    guard let context else { return 0 }
                    let wait = Unmanaged<BusyWait>.fromOpaque(context).takeUnretainedValue()
                    let now = DispatchTime.now().uptimeNanoseconds
                    if tries == 0 { wait.since = now }
                    guard now - wait.since < wait.timeout else { return 0 }
                    wait.sleeps += 1
                    usleep(1000)
                    return 1
                }, Unmanaged.passUnretained(busyWait).toOpaque())
        }
        // journal_mode reads the file, so a file that is not a database fails here, at open.
        try execute("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
        // herald_host(url): the per-host limit's key, so a fan-out can insert rows set-wise.
        sqlite3_create_function_v2(
            db, "herald_host", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil,
            { context, _, values in
                guard let value = values?[0], let text = sqlite3_value_text(value) else {
                    return sqlite3_result_null(context)
                }
                let url = UnsafeBufferPointer(start: text, count: Int(sqlite3_value_bytes(value)))
                // Anything but plain ASCII (a NUL, bytes that are not UTF-8) takes the string
                // path, which reads it as it always did: the key must match `host(of:)`.
                guard url.allSatisfy({ $0 != 0 && $0 < 0x80 }) else {
                    return sqlite3_result_text(
                        context, OutboxStore.host(of: String(cString: text)), -1, Statement.transient)
                }
                let cut = OutboxStore.lowercasedHost(in: url) { host in
                    host.withMemoryRebound(to: CChar.self) {
                        sqlite3_result_text(context, $0.baseAddress, Int32($0.count), Statement.transient)
                    }
                }
                if cut == nil { sqlite3_result_value(context, value) }  // no host: the URL as it is
            }, nil, nil, nil)
        // herald_fingerprint(text): OutboxStore.fingerprint, for Message-IDs made set-wise.
        sqlite3_create_function_v2(
            db, "herald_fingerprint", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil,
            { context, _, values in
                guard let value = values?[0], let text = sqlite3_value_text(value) else {
                    return sqlite3_result_null(context)
                }
                sqlite3_result_text(
                    context, OutboxStore.fingerprint(String(cString: text)), -1, Statement.transient)
            }, nil, nil, nil)
    }

    /// Hands this connection's WAL checkpoints to `checkpointer`, which makes them on its own
    /// thread: a commit that leaves the WAL long rings it instead of copying the WAL back itself.
    public func handCheckpoints(to checkpointer: Checkpointer) {
        self.checkpointer = checkpointer
        // Replaces SQLite's automatic checkpoint, itself a WAL hook.
        sqlite3_wal_hook(
            handle,
            { context, db, name, frames in
                guard let context else { return SQLITE_OK }
                switch Checkpointer.step(afterCommitWithFrames: frames) {
                case .nothing: break
                case .ring: Unmanaged<Checkpointer>.fromOpaque(context).takeUnretainedValue().ring()
                case .checkpointHere: sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
                }
                return SQLITE_OK
            }, Unmanaged.passUnretained(checkpointer).toOpaque())
    }

    deinit {
        statements.removeAll()  // finalize before closing
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements without parameters: schema scripts and pragmas only.
    public func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw SQLiteError(code: sqlite3_extended_errcode(handle), message: text, path: path)
        }
    }

    /// A prepared statement for `sql`, kept for reuse by this connection.
    public func statement(_ sql: String) throws -> Statement {
        if let cached = statements[sql] {
            cached.reset()
            return cached
        }
        var raw: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard rc == SQLITE_OK, let raw else { throw error() }
        let statement = Statement(raw, database: self)
        statements[sql] = statement
        return statement
    }

    /// Runs a statement that returns no rows; returns the number of rows it changed.
    @discardableResult
    public func run(_ sql: String, _ values: SQLValue...) throws -> Int {
        try run(sql, values)
    }

    /// Runs a statement with an array of values; returns the number of rows it changed.
    @discardableResult
    public func run(_ sql: String, _ values: [SQLValue]) throws -> Int {
        let statement = try statement(sql)
        try statement.bind(values)
        while try statement.step() {}
        return Int(sqlite3_changes(handle))
    }

    /// Runs a query and maps each row.
    public func query<T>(_ sql: String, _ values: SQLValue..., map: (Row) throws -> T) throws -> [T] {
        try query(sql, values, map: map)
    }

    /// Runs a query with an array of values and maps each row.
    public func query<T>(_ sql: String, _ values: [SQLValue], map: (Row) throws -> T) throws -> [T] {
        let statement = try statement(sql)
        try statement.bind(values)
        var rows: [T] = []
        while try statement.step() { rows.append(try map(Row(statement: statement))) }
        return rows
    }

    /// The first row of a query, mapped, or nil.
    public func first<T>(_ sql: String, _ values: SQLValue..., map: (Row) throws -> T) throws -> T? {
        let statement = try statement(sql)
        try statement.bind(values)
        defer { statement.reset() }
        return try statement.step() ? map(Row(statement: statement)) : nil
    }

    /// Rows changed by the last statement on this connection.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Rows changed on this connection since it was opened.
    public var totalChanges: Int { Int(sqlite3_total_changes64(handle)) }

    /// The rowid of the last insert on this connection.
    public var lastInsertID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Runs `body` and counts the work SQLite does for it, in its virtual machine's
    /// instructions (to the hundred: each statement's are counted a hundred at a time): a
    /// measure of how much a transaction reads that does not depend on the machine's speed,
    /// so tests can hold bounds on it.
    public func countingWork<T>(_ body: () throws -> T) rethrows -> (result: T, steps: Int) {
        let counter = WorkCounter()
        sqlite3_progress_handler(
            handle, 100,
            { context in
                if let context { Unmanaged<WorkCounter>.fromOpaque(context).takeUnretainedValue().hundreds += 1 }
                return 0
            }, Unmanaged.passUnretained(counter).toOpaque())
        defer { sqlite3_progress_handler(handle, 0, nil, nil) }
        let result = try withExtendedLifetime(counter) { try body() }
        return (result, counter.hundreds * 100)
    }

    /// Runs `body` in a write transaction taken with `BEGIN IMMEDIATE`, so the write lock is
    /// held from the start and a busy database fails early instead of at commit. Any error
    /// rolls everything back: bad input leaves no partial row.
    public func write<T>(_ body: () throws -> T) throws -> T {
        // Inside a rehearsal each write is a savepoint: it can fail alone, and all of it is
        // undone when the rehearsal ends.
        if rehearsing {
            // SQLite ends a transaction itself after some errors (a full disk, say): a savepoint
            // then would open a real transaction, and its release would commit it.
            guard sqlite3_get_autocommit(handle) == 0 else {
                throw SQLiteError(code: SQLITE_ABORT, message: "the rehearsal's transaction has ended", path: path)
            }
            try execute("SAVEPOINT herald_write")
            do {
                let result = try body()
                try execute("RELEASE herald_write")
                return result
            } catch {
                try? execute("ROLLBACK TO herald_write")
                try? execute("RELEASE herald_write")
                throw error
            }
        }
        precondition(!inTransaction, "nested write transaction")
        try beginImmediate(within: busyWait.timeout)
        inTransaction = true
        let result: T
        do {
            // The transaction ends, committed or not, before anything it handed on runs.
            defer {
                inTransaction = false
                writerTurn?.give()
            }
            do {
                result = try body()
                try execute("COMMIT")
            } catch {
                try? execute("ROLLBACK")
                onCommit.removeAll()
                throw error
            }
        }
        let actions = onCommit
        onCommit.removeAll()
        for action in actions { action() }
        return result
    }

    /// Runs `action` once the write transaction under way has committed, after it gave the
    /// lock back; never when it rolls back, nor in a rehearsal (which never commits). What is
    /// handed outside the database must not be seen before the rows it names are.
    public func afterCommit(_ action: @escaping () -> Void) {
        precondition(inTransaction || rehearsing, "afterCommit outside a write transaction")
        if !rehearsing { onCommit.append(action) }
    }

    /// Runs `body` exactly as it would run, writes and all, then undoes every write: what
    /// `--dry-run` shows is what the command would do, computed by the same code.
    /// `waitingAtMost` bounds the wait for another writer below the connection's own timeout.
    public func rehearse<T>(waitingAtMost limit: Duration? = nil, _ body: () throws -> T) throws -> T {
        precondition(!inTransaction && !rehearsing, "a rehearsal inside a transaction")
        var within = busyWait.timeout
        if let limit {
            let nanoseconds = limit.components.seconds * 1_000_000_000 + limit.components.attoseconds / 1_000_000_000
            within = min(within, UInt64(max(0, nanoseconds)))
        }
        try beginImmediate(within: within)
        defer { writerTurn?.give() }
        rehearsing = true
        defer {
            rehearsing = false
            try? execute("ROLLBACK")
        }
        return try body()
    }

    /// Takes this process's turn to write the file, then SQLite's write lock (`BEGIN
    /// IMMEDIATE`), waiting at most `nanoseconds` for both together: another connection of this
    /// process by the turn (it wakes at that one's commit), another process by SQLite's busy
    /// handler. Past it the database is busy, as SQLite says. The caller gives the turn back
    /// when its transaction ends.
    private func beginImmediate(within nanoseconds: UInt64) throws {
        let started = DispatchTime.now().uptimeNanoseconds
        if let writerTurn, !writerTurn.take(within: nanoseconds) {
            throw SQLiteError(code: SQLITE_BUSY, message: "database is locked", path: path)
        }
        let timeout = busyWait.timeout
        busyWait.timeout = nanoseconds - min(nanoseconds, DispatchTime.now().uptimeNanoseconds - started)
        defer { busyWait.timeout = timeout }
        do {
            try execute("BEGIN IMMEDIATE")
        } catch {
            writerTurn?.give()
            throw error
        }
    }

    /// How often this connection's busy handler slept waiting for another writer: each sleep
    /// is a millisecond, and one that another writer of this process caused is one too many.
    var busySleeps: Int { busyWait.sleeps }

    func error() -> SQLiteError {
        SQLiteError(
            code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)), path: path)
    }
}

/// A compiled statement. Owned by its `Database`, which caches and finalizes it.
public final class Statement {
    private let raw: OpaquePointer
    private unowned let database: Database

    init(_ raw: OpaquePointer, database: Database) {
        self.raw = raw
        self.database = database
    }

    deinit { sqlite3_finalize(raw) }

    // SQLITE_TRANSIENT does not import into Swift: it is the destructor value -1.
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Binds `values` to the parameters in order.
    public func bind(_ values: [SQLValue]) throws {
        sqlite3_clear_bindings(raw)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(raw, index)
            case let .integer(v): rc = sqlite3_bind_int64(raw, index, v)
            case let .real(v): rc = sqlite3_bind_double(raw, index, v)
            case let .text(v): rc = sqlite3_bind_text(raw, index, v, -1, Statement.transient)
            case let .blob(v):
                rc = v.withUnsafeBytes {
                    sqlite3_bind_blob64(raw, index, $0.baseAddress, sqlite3_uint64($0.count), Statement.transient)
                }
            }
            guard rc == SQLITE_OK else { throw database.error() }
        }
    }

    /// Advances; true while there is a row to read.
    public func step() throws -> Bool {
        switch sqlite3_step(raw) {
        case SQLITE_ROW: return true
        case SQLITE_DONE:
            sqlite3_reset(raw)
            return false
        default:
            let error = database.error()
            sqlite3_reset(raw)
            throw error
        }
    }

    func reset() { sqlite3_reset(raw) }

    fileprivate func column(_ index: Int32) -> SQLValue {
        switch sqlite3_column_type(raw, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(raw, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(raw, index))
        case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(raw, index)))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(raw, index))
            guard count > 0, let bytes = sqlite3_column_blob(raw, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }
}

/// The current row of a statement; valid only inside the mapping closure.
public struct Row {
    fileprivate let statement: Statement

    /// The value of column `index` (0-based).
    public subscript(_ index: Int) -> SQLValue { statement.column(Int32(index)) }

    /// An integer column; 0 when NULL or not an integer.
    public func int(_ index: Int) -> Int64 {
        if case let .integer(v) = self[index] { return v }
        return 0
    }

    /// An integer column; nil when NULL or not an integer.
    public func optionalInt(_ index: Int) -> Int64? {
        if case let .integer(v) = self[index] { return v }
        return nil
    }

    /// A text column; empty when NULL or not text.
    public func text(_ index: Int) -> String {
        if case let .text(v) = self[index] { return v }
        return ""
    }

    /// A text column; nil when NULL or not text.
    public func optionalText(_ index: Int) -> String? {
        if case let .text(v) = self[index] { return v }
        return nil
    }

    /// A text column holding a JSON array of strings (`json_group_array`, a stored list);
    /// empty when NULL or not such an array.
    public func strings(_ index: Int) -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data(text(index).utf8))) ?? []
    }

    /// A blob column; empty when NULL or not a blob.
    public func blob(_ index: Int) -> [UInt8] {
        if case let .blob(v) = self[index] { return v }
        return []
    }

    /// A stored millisecond instant as a `Date`.
    public func date(_ index: Int) -> Date { Date(milliseconds: int(index)) }

    /// A stored millisecond instant as a `Date`; nil when NULL.
    public func optionalDate(_ index: Int) -> Date? { optionalInt(index).map(Date.init(milliseconds:)) }
}

extension Date {
    /// The instant `milliseconds` after the Unix epoch: how instants are stored.
    public init(milliseconds: Int64) { self.init(timeIntervalSince1970: Double(milliseconds) / 1000) }

    /// Milliseconds since the Unix epoch, rounded down.
    public var milliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }
}

extension SQLValue {
    /// An instant as stored, or NULL.
    public static func date(_ date: Date?) -> SQLValue { date.map { .integer($0.milliseconds) } ?? .null }
    /// Text, or NULL.
    public static func optionalText(_ text: String?) -> SQLValue { text.map(SQLValue.text) ?? .null }
    /// An `Int` as a 64-bit integer.
    public static func int(_ value: Int) -> SQLValue { .integer(Int64(value)) }
}

/// How long a connection waits for a lock, and since when it has been waiting this time.
private final class BusyWait {
    var timeout: UInt64
    var since: UInt64 = 0
    var sleeps = 0

    init(timeout: UInt64) { self.timeout = timeout }
}

/// The turn to write one database file, shared by every connection of this process to it: a
/// writer waiting for another here wakes the moment that one commits. SQLite's busy handler
/// polls every millisecond, and two writers of one process (the scheduler writing a
/// publication's rows, the delivery worker claiming them) lost up to that much at each
/// meeting, at the instant when every millisecond is a send's. Writers in other processes
/// (the CLI) still meet SQLite's lock and its handler. The turns are the process's, as SQLite
/// keeps its own record of each open file for the process: connections opened apart (the
/// scheduler's, the worker's, the HTTP pool's) meet at the file, not at anything passed.
final class WriterTurn: @unchecked Sendable {
    // A semaphore, not a mutex: its wait's deadline is on the monotonic clock, where a mutex's
    // timed lock reads the wall clock (a step of it would end a wait at once).
    private let semaphore = DispatchSemaphore(value: 1)

    private static let byFile = Mutex<[String: WriterTurn]>([:])

    /// The turn for the file at `path`, one per file however it is named; nil in memory.
    static func forFile(_ path: String) -> WriterTurn? {
        guard path != ":memory:", !path.isEmpty, let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        let key = String(cString: resolved)
        return byFile.withLock { turns in
            if let turn = turns[key] { return turn }
            let turn = WriterTurn()
            turns[key] = turn
            return turn
        }
    }

    /// Takes the turn, waiting at most `nanoseconds`; false when another writer kept it.
    func take(within nanoseconds: UInt64) -> Bool {
        semaphore.wait(timeout: .now() + .nanoseconds(Int(min(nanoseconds, UInt64(Int.max / 2))))) == .success
    }

    func give() { semaphore.signal() }
}

/// What `countingWork`'s progress handler counts into.
private final class WorkCounter {
    var hundreds = 0
}

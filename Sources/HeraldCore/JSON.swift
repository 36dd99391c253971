/// A JSON value, written with sorted keys and unescaped slashes: the same value gives the same
/// bytes, so signatures and tests are stable. Written here rather than by Foundation's
/// `JSONSerialization`, whose casts from `Any` cost milliseconds the first time a process
/// meets them: that was the first publication after every start, at its embargo instant.
public indirect enum JSON: Sendable, Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    case array([JSON])
    case object([String: JSON])

    /// `text` as a string, or null when nil.
    public static func optional(_ text: String?) -> JSON { text.map(JSON.string) ?? .null }

    /// UTF-8 JSON text.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out)
        return out
    }

    /// The same JSON as a string.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    private func write(to out: inout [UInt8]) {
        switch self {
        case let .string(text): Self.write(text, to: &out)
        case let .int(number): out += String(number).utf8
        case let .bool(flag): out += (flag ? "true" : "false").utf8
        case .null: out += "null".utf8
        case let .array(items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let .object(members):
            out.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.write(key, to: &out)
                out.append(UInt8(ascii: ":"))
                members[key]!.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// RFC 8259 §7: quotation mark, reverse solidus and control characters escaped; the rest as UTF-8.
    private static func write(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += #"\""#.utf8
            case UInt8(ascii: "\\"): out += #"\\"#.utf8
            case 0x0A: out += #"\n"#.utf8
            case 0x0D: out += #"\r"#.utf8
            case 0x09: out += #"\t"#.utf8
            case 0x08: out += #"\b"#.utf8
            case 0x0C: out += #"\f"#.utf8
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += #"\u00"#.utf8
                out += [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByStringInterpolation
{
    /// A string literal as a JSON string.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An integer literal as a JSON number.
    public init(integerLiteral value: Int) { self = .int(value) }
    /// `true` or `false` as a JSON boolean.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An array literal as a JSON array.
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    /// A dictionary literal as a JSON object; of a repeated key, the first value wins.
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { first, _ in first }))
    }
}

import Foundation
import HeraldCore

/// A value made once per key on first use: a notice's content per language.
final class Memo<Key: Hashable, Value> {
    private var values: [Key: Value] = [:]
    private let make: (Key) -> Value

    init(_ make: @escaping (Key) -> Value) { self.make = make }

    func get(_ key: Key) -> Value {
        if let value = values[key] { return value }
        let value = make(key)
        values[key] = value
        return value
    }
}

import ArgumentParser
import Foundation
import HeraldApp
import HeraldCore
import HeraldStore

/// `--json` for listings.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON instead of a table.")
    var json = false
}

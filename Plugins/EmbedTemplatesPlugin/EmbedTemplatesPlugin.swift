import Foundation
import PackagePlugin

/// Embeds every `Templates/**/*.mustache` into the binary, named by its path below Templates/,
/// so an installed `herald` speaks every language with no source tree; `HERALD_TEMPLATES`
/// overrides them file by file at run time.
@main
struct EmbedTemplatesPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let directory = context.package.directoryURL.appending(path: "Templates")
        var files: [URL] = []
        if let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) {
            for case let url as URL in walker where url.pathExtension == "mustache" { files.append(url) }
        }
        files.sort { $0.path < $1.path }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedTemplates.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) templates",
                executable: try context.tool(named: "EmbedFiles").url,
                arguments: [output.path, "embeddedTemplates", "--relative-to", directory.path] + files.map(\.path),
                inputFiles: files,
                outputFiles: [output]
            )
        ]
    }
}

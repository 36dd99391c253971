import Foundation
import PackagePlugin

/// Embeds the repository's `openapi.yaml` into the server, which serves it at /openapi.yaml:
/// one file describes the API, in the repository and on the wire.
@main
struct EmbedOpenAPIPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let file = context.package.directoryURL.appending(path: "openapi.yaml")
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedOpenAPI.swift")
        return [
            .buildCommand(
                displayName: "Embedding openapi.yaml",
                executable: try context.tool(named: "EmbedFiles").url,
                arguments: [output.path, "embeddedOpenAPI", file.path],
                inputFiles: [file],
                outputFiles: [output]
            )
        ]
    }
}

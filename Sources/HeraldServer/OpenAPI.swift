/// The API description, `openapi.yaml` from the repository, embedded at build time.
enum OpenAPI {
    static var document: String { embeddedOpenAPI.first?.text ?? "" }
}

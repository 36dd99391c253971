// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Herald",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "herald", targets: ["herald"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.30.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
    ],
    targets: [
        // System libraries. SQLite comes from libsqlite3-dev; libcurl from libcurl4-openssl-dev.
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // QR codes of the console's authenticator keys (Debian libqrencode-dev).
        .systemLibrary(name: "CQREncode", providers: [.apt(["libqrencode-dev"])]),
        // OpenPGP from librnp (Debian librnp-dev): in-process, no agent; chosen over GPGME by
        // the measurement in scripts/openpgp-candidates (README, "OpenPGP").
        .systemLibrary(name: "CRNP", providers: [.apt(["librnp-dev"])]),
        // A real C target rather than a bare module map: curl_easy_setopt is variadic and
        // CURLVERSION_NOW is a macro, so Swift needs typed wrappers.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        // cmark-gfm from libcmark-gfm-dev and libcmark-gfm-extensions-dev: a shim attaches the
        // GFM extensions by name and turns raw HTML into text.
        .target(name: "CCmark", linkerSettings: [.linkedLibrary("cmark-gfm"), .linkedLibrary("cmark-gfm-extensions")]),
        // Markdown bodies to HTML; the stores hand the result to the pure core as data.
        .target(name: "HeraldMarkdown", dependencies: ["CCmark"]),

        // The pure domain: Foundation only, no I/O.
        .target(name: "HeraldCore"),

        // The wording of every message, as Mustache templates in English, Dutch and Danish:
        // Templates/ embedded at build time, overridable from a directory at run time.
        .target(
            name: "HeraldTemplates",
            dependencies: ["HeraldCore", .product(name: "Mustache", package: "swift-mustache")],
            plugins: ["EmbedTemplatesPlugin"]
        ),

        // The use cases: what each command and route does, as functions over ports (protocols)
        // that the SQLite adapter implements. No SQL, no I/O.
        .target(name: "HeraldApp", dependencies: ["HeraldCore"]),

        // SQLite adapter. Migrations/*.sql are embedded at build time by the plugin.
        .target(
            name: "HeraldStore",
            dependencies: [
                "CSQLite", "HeraldApp", "HeraldCore", "HeraldMarkdown", "HeraldTemplates",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["EmbedMigrationsPlugin"]
        ),

        // The OpenPGP port (HeraldApp.OpenPGP) over librnp.
        .target(
            name: "HeraldOpenPGP",
            dependencies: [
                "CRNP", "HeraldApp", "HeraldCore", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]),

        // Scheduler, outbox workers and the transports (libcurl for SMTP and HTTP, files for Maildir).
        .target(
            name: "HeraldDelivery",
            dependencies: [
                "CCurl", "HeraldApp", "HeraldCore", "HeraldStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),

        // The HTTP service: admin API, provider self-service, public pages and feeds, metrics.
        .target(
            name: "HeraldServer",
            dependencies: [
                "HeraldApp", "HeraldCore", "HeraldStore", "HeraldDelivery", "HeraldTemplates", "HeraldMarkdown",
                "CQREncode",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            plugins: ["EmbedOpenAPIPlugin"]
        ),

        // The CLI, the composition root.
        .executableTarget(
            name: "herald",
            dependencies: [
                "HeraldApp", "HeraldCore", "HeraldStore", "HeraldDelivery", "HeraldServer", "HeraldTemplates",
                "HeraldOpenPGP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),

        // Build-time tool and plugins that embed Migrations/*.sql and openapi.yaml as Swift source.
        .executableTarget(name: "EmbedFiles"),
        .plugin(name: "EmbedMigrationsPlugin", capability: .buildTool(), dependencies: ["EmbedFiles"]),
        .plugin(name: "EmbedOpenAPIPlugin", capability: .buildTool(), dependencies: ["EmbedFiles"]),
        .plugin(name: "EmbedTemplatesPlugin", capability: .buildTool(), dependencies: ["EmbedFiles"]),

        // Fixtures shared by the test targets: temporary databases, real servers started as processes.
        .target(
            name: "HeraldTestSupport", dependencies: ["HeraldApp", "HeraldStore", "HeraldCore"],
            path: "Tests/HeraldTestSupport"),
        .testTarget(name: "HeraldCoreTests", dependencies: ["HeraldCore", "HeraldMarkdown", "HeraldTemplates"]),
        .testTarget(name: "HeraldAppTests", dependencies: ["HeraldApp", "HeraldCore"]),
        .testTarget(name: "HeraldOpenPGPTests", dependencies: ["HeraldOpenPGP", "HeraldApp", "HeraldCore"]),
        .testTarget(
            name: "HeraldStoreTests",
            dependencies: ["HeraldApp", "HeraldStore", "HeraldCore", "CSQLite", "HeraldTestSupport"]),
        .testTarget(
            name: "HeraldDeliveryTests",
            dependencies: [
                "HeraldApp", "HeraldDelivery", "HeraldStore", "HeraldCore", "HeraldTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: []),
        .testTarget(
            name: "HeraldServerTests",
            dependencies: [
                "HeraldApp", "HeraldServer", "HeraldStore", "HeraldCore", "HeraldMarkdown", "HeraldTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]),
        .testTarget(name: "HeraldCLITests", dependencies: ["HeraldTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

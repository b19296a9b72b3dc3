import SwiftUI

@main
struct EdgeSERApp: App {
    var body: some Scene {
        WindowGroup {
            ContentView()
        }
    }
}

import SwiftUI

/// The current emotion, a start/stop button and one bar per label.
struct ContentView: View {
    @StateObject private var recognizer = LiveRecognizer()

    var body: some View {
        VStack(alignment: .leading, spacing: 16) {
            Text(recognizer.status)
                .font(.largeTitle)
            Button(recognizer.isRecording ? "Stop" : "Start") {
                recognizer.toggle()
            }
            .buttonStyle(.borderedProminent)
            .disabled(!recognizer.canRecord)
            ForEach(Array(recognizer.labels.enumerated()), id: \.offset) { index, label in
                HStack {
                    Text(label)
                        .frame(width: 90, alignment: .leading)
                    ProgressView(value: Double(recognizer.probabilities[index]))
                }
            }
            Spacer()
        }
        .padding(24)
    }
}

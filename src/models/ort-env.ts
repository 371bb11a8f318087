// onnxruntime-node's telemetry (the 1DS "MAT" SDK) creates an empty /tmp/mat-debug-<pid>.log in every process that
// makes a session, and never removes it. ORT_DISABLE_TELEMETRY, read when the native runtime starts, turns it off.
// Imported for its effect before onnxruntime-node is loaded; a user's own setting wins.
process.env.ORT_DISABLE_TELEMETRY ??= '1';

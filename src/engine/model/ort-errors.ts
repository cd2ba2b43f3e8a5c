const MAX_DETAIL = 400;

/**
 * ONNX Runtime's error text, kept readable: every line (the useful part is often after the
 * first), without C++ source locations and signatures, and cut to a length a log line or a
 * chat message can hold.
 */
export function ortErrorDetail(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  const text = raw
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !/^at\s/.test(line))
    .join(' ')
    // "/onnxruntime_src/onnxruntime/core/…/conv_attributes.h:101 onnxruntime::common::Status onnxruntime::X::Y(…) const "
    .replace(/\S*\.(?:cc|cpp|cu|h|hpp):\d+\s+(?:[\w:<>,*&~ ]+?::[\w~]+\([^)]*\)(?:\s*const)?\s*)?/g, '')
    .replace(/\[with [^\]]*\]\s*/g, '')
    .replace(/\[ONNXRuntimeError\] : \d+ : \w+ : /g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL - 1)}…` : text;
}


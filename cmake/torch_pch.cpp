// The one source of loom_torch_pch (cmake/LoomPrecompiledHeader.cmake): a
// target needs a source file to compile its precompiled header with.

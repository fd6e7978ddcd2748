
// ---- Appended by ebm's scripts/torch/setup.sh (scripts/torch/ebm_extra.cpp):
// C functions ebm needs that gotch's torch_api does not have. Each is one
// top-level definition, so the stub pass can replace one that some libtorch
// lacks, like the generated wrappers.
extern "C" {
void ebm_set_allow_tf32(int on) {
  PROTECT(at::globalContext().setAllowTF32CuBLAS(on != 0);
          at::globalContext().setAllowTF32CuDNN(on != 0);)
}
int ebm_get_allow_tf32() {
  PROTECT(return at::globalContext().allowTF32CuDNN() ? 1 : 0;)
  return -1;
}
}

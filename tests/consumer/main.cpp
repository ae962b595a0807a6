// A program outside the tapegrad tree: fits y = 2x + 1 with a Linear layer and SGD,
// checkpoints it through safetensors and reads it back, and checks a tg::Error text.
// Exits 0 only when every result is right.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "tapegrad.h"

int main(int argc, char** argv) {
  using namespace tg;
  if (argc != 2) return 2;
  Linear model(1, 1, true, kFloat64);
  SGD opt(model.parameters(), {.lr = 0.1});
  const Tensor x = tensor({-1, 0, 1, 2}, kFloat64).reshape({4, 1});
  const Tensor y = tensor({-1, 1, 3, 5}, kFloat64).reshape({4, 1});
  for (int step = 0; step < 500; ++step) {
    opt.zero_grad();
    Variable loss = mse_loss(model(x), y);
    loss.backward();
    opt.step();
  }
  const std::string path = (std::filesystem::path(argv[1]) / "consumer.safetensors").string();
  save_safetensors(path, model.state_dict(), {{"fit", "y = 2x + 1"}});
  Metadata meta;
  const NamedTensors back = load_safetensors(path, &meta);
  const double w = back.at(0).second.item(), b = back.at(1).second.item();
  std::printf("%s: w = %.6f, b = %.6f (%s)\n", meta.at("fit").c_str(), w, b, back.at(0).first.c_str());
  std::string err;
  try {
    model(tensor({1, 2, 3}, kFloat64).reshape({1, 3}));
  } catch (const Error& e) {
    err = e.what();
  }
  std::printf("error: %s\n", err.c_str());
  const bool ok = std::fabs(w - 2) < 1e-6 && std::fabs(b - 1) < 1e-6 && back.at(0).first == "weight" &&
                  err == "linear: input of shape [1, 3] does not match weight of shape [1, 1] (expected [..., 1])";
  return ok ? 0 : 1;
}

#pragma once
// A training progress bar on stderr: loss (running mean of the last steps), samples/s
// and ETA. On a terminal (tty) it redraws one line; otherwise it prints a line every
// 10%; quiet prints nothing.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fmt/core.h>
#include <string>

namespace tg {

class Progress {
 public:
  Progress(std::string label, int64_t total_steps, bool tty, bool quiet)
      : label_(std::move(label)), total_(total_steps), tty_(tty), quiet_(quiet), start_(std::chrono::steady_clock::now()) {}

  void step(double loss, int64_t samples) {
    ++done_;
    samples_ += samples;
    avg_loss_ = done_ == 1 ? loss : 0.98 * avg_loss_ + 0.02 * loss;
    const bool milestone = total_ > 0 && (done_ * 10 / total_) != ((done_ - 1) * 10 / total_);
    if (!quiet_ && (tty_ || milestone)) draw();
  }

  void finish() {
    if (tty_) std::fputc('\n', stderr);
  }

 private:
  void draw() const {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = secs > 0 ? (double)samples_ / secs : 0;
    const double eta = done_ > 0 ? secs / (double)done_ * (double)(total_ - done_) : 0;
    const int width = 30, filled = total_ > 0 ? (int)(width * done_ / total_) : 0;
    const std::string bar = std::string(filled, '=') + std::string(width - filled, ' ');
    fmt::print(stderr, "{}{} [{}] {:3d}% loss {:.4f} {:6.0f} samples/s ETA {:02d}:{:02d}{}", tty_ ? "\r" : "", label_,
               bar, (int)(100 * done_ / std::max<int64_t>(total_, 1)), avg_loss_, rate, (int)eta / 60, (int)eta % 60,
               tty_ ? "" : "\n");
    std::fflush(stderr);
  }

  std::string label_;
  int64_t total_, done_ = 0, samples_ = 0;
  bool tty_, quiet_;
  double avg_loss_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace tg

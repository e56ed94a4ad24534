#pragma once
// Runs ttla::run_serve on a thread of the test process (listening on 127.0.0.1:0) and hands out
// the bound port; used by the serve integration tests.
#include <chrono>
#include <functional>
#include <future>
#include <stdexcept>
#include <thread>
#include <utility>

#include "app/serve.h"

namespace ttla::testing {

class ServeRunner {
 public:
  explicit ServeRunner(ServeOptions options) {
    std::promise<int> port;
    auto port_future = port.get_future();
    options.listen = "127.0.0.1:0";
    options.on_listening = [&port](int p) { port.set_value(p); };
    result_ = std::async(std::launch::async, [options] { return run_serve(Config{}, options); });
    if (port_future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      throw std::runtime_error("serve did not start listening");
    }
    port_ = port_future.get();
  }
  ~ServeRunner() {
    if (result_.valid()) {
      request_serve_stop();
      result_.wait();
    }
  }
  int port() const { return port_; }
  // Stops and returns run_serve's exit code and how long stopping took.
  std::pair<int, double> stop() {
    auto t0 = std::chrono::steady_clock::now();
    request_serve_stop();
    int rc = result_.get();
    return {rc, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
  }
  std::future<int>& result() { return result_; }

 private:
  std::future<int> result_;
  int port_ = 0;
};

inline bool wait_for(const std::function<bool()>& cond, double seconds = 10) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace ttla::testing

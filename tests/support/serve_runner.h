#pragma once
// Runs ttla::run_serve on a thread of the test process (listening on 127.0.0.1:0) and hands out
// the bound port; http_get scrapes it with libcurl. Used by the serve integration tests.
#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <string>
#include <functional>
#include <future>
#include <stdexcept>
#include <thread>
#include <utility>

#include "app/serve.h"

namespace ttla::testing {

struct HttpResult {
  long status = 0;
  std::string body;
  std::string content_type;
};

inline size_t append_body(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

inline HttpResult http_get(int port, const std::string& path) {
  HttpResult r;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 5000L);
  if (curl_easy_perform(curl.get()) != CURLE_OK) return r;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &r.status);
  char* ct = nullptr;
  curl_easy_getinfo(curl.get(), CURLINFO_CONTENT_TYPE, &ct);
  if (ct) r.content_type = ct;
  return r;
}


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

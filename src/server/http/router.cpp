#include "server/http/router.h"

namespace pensieve::server::http {

static std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  if (!path.empty() && path.back() == '/' && path.size() > 1) out.emplace_back();  // "/a/" != "/a"
  return out;
}

void Router::add(std::string method, std::string_view pattern, Handler handler) {
  routes_.push_back(Route{std::move(method), split_path(pattern), std::move(handler)});
}

const Handler* Router::find(Request& req, bool* path_known, std::string* allow) const {
  const std::vector<std::string> segs = split_path(req.path);
  const std::string_view method = req.method == "HEAD" ? std::string_view("GET") : std::string_view(req.method);
  *path_known = false;
  allow->clear();
  for (const Route& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    std::vector<std::string> params;
    bool match = true;
    for (size_t i = 0; i < segs.size() && match; ++i) {
      if (r.segments[i] == "*") {
        if (segs[i].empty()) match = false;
        else params.push_back(segs[i]);
      } else {
        match = r.segments[i] == segs[i];
      }
    }
    if (!match) continue;
    if (r.method == method) {
      req.params = std::move(params);
      return &r.handler;
    }
    *path_known = true;
    if (!allow->empty()) *allow += ", ";
    *allow += r.method;
  }
  return nullptr;
}

}  // namespace pensieve::server::http

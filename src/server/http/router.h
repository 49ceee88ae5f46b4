// Routes by method and path pattern; '*' in a pattern matches one path segment (captured into
// Request::params). HEAD is served by the GET route.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "server/http/types.h"

namespace pensieve::server::http {

using Handler = std::function<void(const Request&, Response&)>;

class Router {
 public:
  void add(std::string method, std::string_view pattern, Handler handler);
  // The handler for req (filling req.params), or null: then *path_known tells whether some other
  // method is routed at this path (405) or none is (404), and *allow lists those methods.
  const Handler* find(Request& req, bool* path_known, std::string* allow) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace pensieve::server::http

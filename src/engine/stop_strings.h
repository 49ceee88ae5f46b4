// Stop strings over streamed text: text is released only when it can no longer be the start
// of a stop string, so a stop string spanning several tokens is never emitted, not even in part.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pensieve::engine {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);

  // Appends text; returns what is now safe to emit. After a stop string completes, stopped()
  // is true, the returned text ends right before it, and further pushes return nothing.
  std::string push(std::string_view text);
  // At the end of generation: everything still held back (empty when stopped).
  std::string flush();

  bool stopped() const { return stopped_; }
  const std::string& matched() const { return matched_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
  std::string matched_;
};

}  // namespace pensieve::engine

#include <gtest/gtest.h>

#include "shell/validator.h"

namespace pensieve::shell {
namespace {

TEST(ShellValidator, Smoke) {
  ShellContext ctx{"/home/user/project", "/home/user"};
  auto v = rate_command("rm -rf /", ctx);
  EXPECT_EQ(v.risk, Risk::blocked);
}

}  // namespace
}  // namespace pensieve::shell

#include "http/static_files.hpp"

#include <gtest/gtest.h>

using namespace forrealtime::detail;

TEST(StaticFiles, MapsPathsInsideTheRoot) {
  EXPECT_EQ(*static_path("/srv", "/app.js"), "/srv/app.js");
  EXPECT_EQ(*static_path("/srv", "/a/b%20c.css"), "/srv/a/b c.css");
}

TEST(StaticFiles, RefusesEscapes) {
  for (const char* bad : {"/../etc/passwd", "/a/../../x", "/%2e%2e/x", "/a//b", "/a\\..\\b",
                          "relative", "/%00", "/%zz", "/%2"})
    EXPECT_FALSE(static_path("/srv", bad)) << bad;
}

TEST(StaticFiles, ContentTypes) {
  EXPECT_EQ(content_type_for("x/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("a.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("noext"), "application/octet-stream");
}

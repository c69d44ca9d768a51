#include "http/static_files.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

using namespace forrealtime::detail;

TEST(StaticFiles, MapsPathsInsideTheRoot) {
  EXPECT_EQ(*static_path("/srv", "/app.js"), "/srv/app.js");
  EXPECT_EQ(*static_path("/srv", "/a/b%20c.css"), "/srv/a/b c.css");
  EXPECT_EQ(*static_path("/srv", "/a+b.css"), "/srv/a+b.css");  // a path is not a form
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

TEST(StaticFiles, ResolvesLinksAndRefusesWhatLeavesTheRoot) {
  namespace fs = std::filesystem;
  auto base = fs::temp_directory_path() / ("forrealtime-static-unit-" + std::to_string(getpid()));
  fs::remove_all(base);
  fs::create_directories(base / "www" / "sub");
  fs::create_directories(base / "www2");
  std::ofstream(base / "www" / "a.txt") << "a";
  std::ofstream(base / "www2" / "b.txt") << "b";
  std::ofstream(base / "secret.txt") << "s";
  fs::create_symlink(base / "secret.txt", base / "www" / "leak.txt");
  fs::create_symlink(base / "www2", base / "www" / "twin");
  fs::create_symlink(base / "www" / "a.txt", base / "www" / "sub" / "alias.txt");
  fs::create_symlink("../a.txt", base / "www" / "sub" / "rel.txt");
  auto root = (base / "www").string();
  EXPECT_EQ(resolve_inside(root, root + "/a.txt"), fs::canonical(base / "www" / "a.txt").string());
  EXPECT_TRUE(resolve_inside(root, root + "/sub/alias.txt"));
  EXPECT_TRUE(resolve_inside(root, root + "/sub/rel.txt"));
  EXPECT_FALSE(resolve_inside(root, root + "/leak.txt"));
  EXPECT_FALSE(resolve_inside(root, root + "/twin/b.txt")) << "www2 is not inside www";
  EXPECT_FALSE(resolve_inside(root, root + "/sub")) << "not a regular file";
  EXPECT_FALSE(resolve_inside(root, root + "/missing"));
  EXPECT_FALSE(resolve_inside(root + "/missing-root", root + "/a.txt"));
  fs::remove_all(base);
}

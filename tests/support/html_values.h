#pragma once
// Reads back what an HTML report (sinks/html_report.h) shows: per target card (data-target), every
// number tagged with data-ptr (a JSON pointer into the target's report object) and data-value
// (the JSON value), and the backlog trend's points. Works on the page as written and on
// Chromium's --dump-dom serialisation of it (both quote attributes with ").
#include <map>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace ttla::testing {

inline std::string html_unescape(std::string s) {
  const std::pair<const char*, const char*> entities[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}};
  for (const auto& [from, to] : entities) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + 1)) {
      s.replace(at, std::string(from).size(), to);
    }
  }
  return s;
}

struct HtmlCard {
  std::string html;                                        // the card's markup
  std::vector<std::pair<std::string, std::string>> values;  // (data-ptr, data-value) in order
  std::vector<std::pair<double, double>> trend;             // (data-at, data-expired)
};

// Cards by target name.
inline std::map<std::string, HtmlCard> html_cards(const std::string& page) {
  std::map<std::string, HtmlCard> out;
  static const std::regex card_re(R"re(<section class="card[^"]*" id="[^"]*" data-target="([^"]*)">)re");
  static const std::regex value_re(R"re(data-ptr="([^"]*)" data-value="([^"]*)")re");
  static const std::regex trend_re(R"re(data-at="([^"]*)" data-expired="([^"]*)")re");
  for (std::sregex_iterator it(page.begin(), page.end(), card_re), end; it != end; ++it) {
    const size_t from = static_cast<size_t>(it->position(0));
    const size_t to = page.find("</section>", from);
    HtmlCard card;
    card.html = page.substr(from, to == std::string::npos ? std::string::npos : to - from);
    for (std::sregex_iterator v(card.html.begin(), card.html.end(), value_re); v != end; ++v) {
      card.values.emplace_back(html_unescape((*v)[1]), html_unescape((*v)[2]));
    }
    for (std::sregex_iterator v(card.html.begin(), card.html.end(), trend_re); v != end; ++v) {
      card.trend.emplace_back(std::stod((*v)[1]), std::stod((*v)[2]));
    }
    out[html_unescape((*it)[1])] = std::move(card);
  }
  return out;
}

// Checks every tagged value of every card against the target of the same name in the JSON report
// (gtest failures name target and pointer). Returns the pointers seen per target, for a test to
// require the ones a page must show.
inline std::map<std::string, std::set<std::string>> expect_cards_match_report(
    const std::map<std::string, HtmlCard>& cards, const nlohmann::json& report) {
  std::map<std::string, std::set<std::string>> seen;
  for (const auto& [name, card] : cards) {
    const nlohmann::json* target = nullptr;
    for (const auto& t : report["targets"]) {
      if (t["name"] == name) target = &t;
    }
    if (target == nullptr) {
      ADD_FAILURE() << "card " << name << " has no target in the report";
      continue;
    }
    for (const auto& [ptr, value] : card.values) {
      const nlohmann::json::json_pointer p(ptr);
      if (!target->contains(p)) {
        ADD_FAILURE() << name << ": " << ptr << " is not in the report";
        continue;
      }
      EXPECT_EQ(nlohmann::json::parse(value), target->at(p)) << name << " " << ptr;
      seen[name].insert(ptr);
    }
  }
  return seen;
}

}  // namespace ttla::testing

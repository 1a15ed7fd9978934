// The static files of `parley gui`: one page, its style and its script,
// kept as real files in client/gui/assets/ and embedded at build time
// (embed_assets.cmake).
// Plain HTML, CSS and JavaScript with no external resource (no CDN, no
// font), so the UI works offline and the Content-Security-Policy can be
// default-src 'self' with no inline script. The script puts every value
// from the API in the page as text (textContent), never as HTML.

#include "client/gui/gui.h"
#include "client/gui/gui_assets_data.h"

namespace parley {

const std::vector<GuiAsset>& GuiAssets() {
  static const std::vector<GuiAsset>* const assets = new std::vector<GuiAsset>{
      {"/", "text/html; charset=utf-8", gui_assets::kIndexHtml},
      {"/app.css", "text/css; charset=utf-8", gui_assets::kAppCss},
      {"/app.js", "text/javascript; charset=utf-8", gui_assets::kAppJs},
  };
  return *assets;
}

}  // namespace parley

self.helperLoaded = "helper.js";

// Starts the self-hosted GraphiQL page. It lives in its own file, not inline, so that a
// strict Content-Security-Policy (script-src 'self') needs no exception for it.
(function () {
  "use strict";

  var root = document.getElementById("graphiql");
  // Styled from here rather than in the page's markup, which then needs no inline style.
  document.body.style.margin = "0";
  root.style.height = "100vh";
  var httpUrl = new URL(root.getAttribute("data-endpoint") || "/graphql", window.location.href);
  var wsUrl = new URL(httpUrl.href);
  wsUrl.protocol = httpUrl.protocol === "https:" ? "wss:" : "ws:";

  function authorizationFrom(headers) {
    if (!headers) return undefined;
    for (var name in headers) {
      if (Object.prototype.hasOwnProperty.call(headers, name) &&
          name.toLowerCase() === "authorization") {
        return String(headers[name]);
      }
    }
    return undefined;
  }

  // A WebSocket is authenticated once, by the Authorization in connection_init, so each
  // Authorization typed in the headers editor gets its own client; the old one is closed.
  var current = null;

  function fetcherFor(authorization) {
    if (current && current.authorization === authorization) return current.fetcher;
    if (current) current.wsClient.dispose();
    var wsClient = graphqlWs.createClient({
      url: wsUrl.href,
      connectionParams: function () {
        return authorization ? { Authorization: authorization } : {};
      },
      // A refused token (4403) stays refused: show the error now instead of retrying.
      shouldRetry: function (closeEvent) {
        return !!closeEvent && typeof closeEvent === "object" &&
          "code" in closeEvent && closeEvent.code !== 4403;
      },
    });
    current = {
      authorization: authorization,
      wsClient: wsClient,
      fetcher: GraphiQL.createFetcher({
        url: httpUrl.href,
        subscriptionUrl: wsUrl.href,
        wsClient: wsClient,
      }),
    };
    return current.fetcher;
  }

  function fetcher(graphQLParams, options) {
    return fetcherFor(authorizationFrom(options && options.headers))(graphQLParams, options);
  }

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: root.getAttribute("data-default-query") || undefined,
      defaultHeaders: "{}",
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: "headers",
    })
  );
})();

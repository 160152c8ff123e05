"""Reading requests and writing answers: parameters, multipart bodies, pages, the endpoint wrapper, bearer and client authentication."""

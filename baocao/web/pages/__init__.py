"""One module per page; each exposes `routes`, collected by `baocao.web.app.create_app`."""

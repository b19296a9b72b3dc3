from edge_ser.cli import main

raise SystemExit(main())
